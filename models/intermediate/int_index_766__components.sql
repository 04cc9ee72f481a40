-- Every component of the Decision 766 index for every unit and period, recomputed
-- (int_index_766__component_points) and beside it what the portal published (its export): the
-- published counts and points, the difference and its likely reason, and the points on the
-- portal's scale: recomputed where the feed allows (`recomputed`; `recomputed_in_part` for a
-- composite whose terms are partly the export's), else published, else missing.

with

points as (

    select * from {{ ref('int_index_766__component_points') }}
    where {{ in_periods_to_refresh() }}

),

-- the portal's export: its components' counts and points
exported as (

    select
        unit_key,
        period,
        metric_code as component_code,
        numerator as published_numerator,
        denominator as published_denominator,
        score as published_points,
        is_provisional as published_is_provisional,
        source_file as published_source_file
    from {{ ref('int_index_766__published') }}
    where not is_group_total and unit_key is not null

),

compared as (

    select
        {{ star_except('p', ['is_all_in_feed']) }},
        e.published_numerator,
        e.published_denominator,
        e.published_points,
        {{ exact_points_difference('p.points', 'e.published_points') }} as points_difference,
        -- the portal's scale: recomputed where the feed allows, else as the portal published it
        coalesce(p.points, e.published_points) as scale_points,
        case
            when p.is_computed and not coalesce(p.is_all_in_feed, true) then 'recomputed_in_part'
            when p.is_computed then 'recomputed'
            when e.published_points is not null then 'published'
            else 'missing'
        end as scale_points_source,
        e.published_is_provisional,
        e.published_source_file
    from points as p
    left join exported as e
        on p.unit_key = e.unit_key
            and p.period = e.period
            and p.component_code = e.component_code

)

select
    *,
    -- why the recomputed points differ from the published ones: the dossiers first (fewer or
    -- more on the portal), then the numerator (late dossiers, results not synced), then the rule
    case
        when points_difference is null or abs(points_difference) < 0.005 then null
        when published_denominator < denominator then 'fewer_dossiers_on_portal'
        when published_denominator > denominator then 'more_dossiers_on_portal'
        when published_numerator = numerator then 'rule_differs'
        when component_code = 'PROGRESS_ON_TIME' then 'late_counted_differently'
        when component_code in ('ORIGINAL_RESULT_AVAILABLE', 'SO_HOA_GIAY_TO_GIAI_QUYET')
            then 'results_not_synced'
        else 'numerator_differs'
    end as difference_reason
from compared
