-- Bộ chỉ số 766: the warehouse's recomputation of the Decision 766 index from the dossier feed,
-- one row per unit (as it was), period and component, with the component's group points, the
-- unit's total, the index over the points that could be computed (0–100), its band and rank, and
-- beside them the score, group points and rank the unit published (indicator
-- `index_766_score`; group points as dimensions named by group code). On the portal's scale
-- (versions from July 2025): each component's points as the portal published them (its
-- export), the difference and its likely reason, the points on the scale (recomputed, else
-- published, marked), the total out of 100 or the components missing from it, and the rank
-- shown: the published one where submitted, else the rank among units with a full total.

with

components as (

    select * from {{ ref('int_index_766__components') }}

),

units as (

    select
        unit_key,
        unit_code,
        unit_name
    from {{ ref('int_units') }}

),

scores as (

    select * from {{ ref('int_index_766__scores') }}

),

published as (

    select
        unit_key,
        period,
        dimension,
        value,
        published_rank,
        published_ranked_of,
        source_file
    from {{ ref('int_indicator_values__submissions') }}
    where indicator_code = 'index_766_score'

),

groups as (

    select
        unit_key,
        period,
        group_code,
        {{ exact_points_sum('points') }} as group_points,
        sum(max_points) filter (where is_computed) as group_computed_max_points,
        case
            when count(*) = count(scale_points) then {{ exact_points_sum('scale_points') }}
        end as group_scale_points,
        case
            when count(published_points) > 0 then {{ exact_points_sum('published_points') }}
        end as export_group_points
    from components
    group by all

),

-- the unit's total as the portal published it: its six groups' points, once all are loaded
published_totals as (

    select
        unit_key,
        period,
        case
            when count(distinct group_code) = 6 then {{ exact_points_sum('score') }}
        end as published_total
    from {{ ref('int_index_766__published') }}
    where is_group_figure
    group by unit_key, period

),

reasons as (

    select * from {{ ref('index_766_difference_reasons') }}

)

select
    c.unit_key,
    u.unit_code,
    u.unit_name,
    c.unit_level,
    province.unit_code as province_code,
    c.period,
    c.period_grain,
    c.period_start,
    c.period_end,
    c.weights_version,
    c.group_code,
    c.group_name_vi,
    c.group_name_en,
    c.group_max_points,
    c.component_code,
    c.component_name_vi,
    c.component_name_en,
    c.numerator,
    c.denominator,
    c.rate,
    c.full_points_at,
    c.max_points,
    c.points,
    c.max_points - c.points as points_lost,
    c.is_computed,
    c.missing_reason,
    c.published_numerator,
    c.published_denominator,
    c.published_points,
    c.points_difference,
    c.difference_reason,
    r.reason_vi as difference_reason_vi,
    c.scale_points,
    c.scale_points_source,
    c.published_is_provisional,
    g.group_points,
    g.group_computed_max_points,
    coalesce(pg.value, g.export_group_points) as published_group_points,
    g.group_scale_points,
    s.total_points,
    s.computed_max_points,
    s.computed_max_points / 100.0 as computed_share_of_maximum,
    s.index_score,
    s.band_code,
    s.band_name_vi,
    s.rank,
    s.ranked_of,
    s.rank_in_province,
    s.ranked_in_province_of,
    pt.value as published_score,
    pt.published_rank,
    pt.published_ranked_of,
    s.index_score - pt.value as score_difference,
    s.rank - pt.published_rank as rank_difference,
    s.scale_total,
    ptot.published_total,
    s.scale_missing_count,
    s.scale_missing_components,
    s.scale_published_count,
    s.scale_rank,
    s.scale_ranked_of,
    s.points_to_next_rank,
    -- the rank shown: the published one where the unit submitted it
    coalesce(pt.published_rank, s.scale_rank) as rank_shown,
    case when pt.published_rank is not null then pt.published_ranked_of else s.scale_ranked_of end
        as rank_shown_of,
    coalesce(pt.source_file, pg.source_file, c.published_source_file) as published_source_file
from components as c
inner join units as u on c.unit_key = u.unit_key
inner join scores as s on c.unit_key = s.unit_key and c.period = s.period
left join units as province on s.province_unit_key = province.unit_key
inner join groups as g
    on c.unit_key = g.unit_key
        and c.period = g.period
        and c.group_code = g.group_code
left join published as pt
    on c.unit_key = pt.unit_key
        and c.period = pt.period
        and pt.dimension = ''
left join published as pg
    on c.unit_key = pg.unit_key
        and c.period = pg.period
        and c.group_code = pg.dimension
left join reasons as r on c.difference_reason = r.reason_code
left join published_totals as ptot on c.unit_key = ptot.unit_key and c.period = ptot.period
where {{ in_periods_to_refresh('c.period') }}
