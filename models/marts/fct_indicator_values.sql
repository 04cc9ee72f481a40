-- Every indicator value, units as they were in the period: computed from dossiers and reported
-- in submissions side by side (column `source`), with target, attainment, change and rank.

with

computed as (

    select
        *,
        cast(null as date) as as_of,
        cast(null as double) as value,  -- computed below, by the indicator's unit
        true as has_counts,
        cast(null as double) as submitted_target,
        cast(null as integer) as published_rank,
        cast(null as integer) as published_ranked_of,
        'computed' as source,
        cast(null as bigint) as source_load_id,
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_row_number
    from {{ ref('int_indicator_values__dossiers') }}

),

reported as (

    select
        *,
        'reported' as source
    from {{ ref('int_indicator_values__submissions') }}

),

all_values as (

    select * from computed
    union all by name
    select * from reported

),

units as (

    select * from {{ ref('int_units') }}

),

catalogue as (

    select
        indicator_code,
        unit,
        direction
    from {{ ref('indicators') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

targets as (

    select * from {{ ref('indicator_targets') }}

),

enriched as (

    select
        v.* replace (
            coalesce(
                v.value,
                case when c.unit = 'rate' then v.numerator / nullif(v.denominator, 0) else v.numerator end
            ) as value
        ),
        u.unit_code,
        u.valid_from as unit_valid_from,
        c.unit as indicator_unit,
        c.direction,
        p.period_year,
        p.previous_period,
        p.same_period_previous_year,
        coalesce(v.submitted_target, unit_target.target, level_target.target) as target
    from all_values as v
    inner join units as u on v.unit_key = u.unit_key
    inner join catalogue as c on v.indicator_code = c.indicator_code
    inner join periods as p on v.period = p.period
    left join targets as unit_target
        on u.unit_code = unit_target.unit_code
            and v.unit_level = unit_target.unit_level
            and p.period_year = unit_target.year
            and v.indicator_code = unit_target.indicator_code
    left join targets as level_target
        on level_target.unit_code is null
            and v.unit_level = level_target.unit_level
            and p.period_year = level_target.year
            and v.indicator_code = level_target.indicator_code

),

-- a level is ranked in a period only if none of its units began or ended inside the period
-- (e.g. provinces in the year 2025 are not ranked: 63 before 1 July, 34 after)
level_stability as (

    select
        u.unit_level,
        p.period,
        bool_and(
            u.valid_from <= p.period_start and coalesce(u.valid_to, {{ end_of_time() }}) >= p.period_end
        ) as is_stable
    from (select distinct period from all_values) as used
    inner join periods as p on used.period = p.period
    inner join units as u
        on p.period_end >= u.valid_from
            and coalesce(u.valid_to, {{ end_of_time() }}) >= p.period_start
    group by all

),

rankable as (

    select
        e.unit_key,
        e.period,
        e.indicator_code,
        e.dimension,
        e.source,
        rank() over w as value_rank,
        count(*) over (partition by e.unit_level, e.period, e.indicator_code, e.dimension, e.source)
            as ranked_of
    from enriched as e
    inner join level_stability as s
        on e.unit_level = s.unit_level and e.period = s.period and s.is_stable
    where e.value is not null and e.unit_level <> 'nation'
    window w as (
        partition by e.unit_level, e.period, e.indicator_code, e.dimension, e.source
        order by case when e.direction = 'lower' then e.value else -e.value end
    )

)

select
    e.unit_key,
    e.unit_code,
    e.unit_valid_from,
    e.unit_level,
    e.period,
    e.period_grain,
    e.period_start,
    e.period_end,
    e.as_of,
    e.indicator_code,
    e.dimension,
    e.numerator,
    e.denominator,
    e.value,
    e.has_counts,
    e.target,
    case
        when e.target is null then 'no_target'
        when e.value is null then null
        when round(e.value, 6) = round(e.target, 6) then 'met'
        when (e.direction = 'higher' and e.value > e.target)
            or (e.direction = 'lower' and e.value < e.target) then 'exceeded'
        else 'not_met'
    end as attainment,
    {{ rate_change('e.value', 'prev.value', 'e.indicator_unit') }} as change_vs_previous_period,
    {{ rate_change('e.value', 'last_year.value', 'e.indicator_unit') }} as change_vs_previous_year,
    r.value_rank as rank,
    r.ranked_of,
    e.published_rank,
    e.published_ranked_of,
    e.source,
    e.source_file,
    e.source_load_id,
    e.source_row_number
from enriched as e
left join enriched as prev
    on e.unit_key = prev.unit_key
        and e.indicator_code = prev.indicator_code
        and e.dimension = prev.dimension
        and e.source = prev.source
        and e.previous_period = prev.period
left join enriched as last_year
    on e.unit_key = last_year.unit_key
        and e.indicator_code = last_year.indicator_code
        and e.dimension = last_year.dimension
        and e.source = last_year.source
        and e.same_period_previous_year = last_year.period
left join rankable as r
    on e.unit_key = r.unit_key
        and e.period = r.period
        and e.indicator_code = r.indicator_code
        and e.dimension = r.dimension
        and e.source = r.source
