-- The Decision 766 index per unit (as it was) and period: points earned, the points that could
-- be computed, the index over them (0–100), its band and the next band with the points it
-- needs, and the rank among the units of the same level with a score in the period (and within
-- the province for agencies, districts and communes). On the portal's scale: the total out of
-- 100 (recomputed points, the published ones for what only the portal knows), null while a
-- component is missing, which components are missing, the rank among the units with a full
-- total and the points to the next rank. fct_index_766 and fct_index_766_what_if both read it.

with

components as (

    select * from {{ ref('int_index_766__components') }}

),

units as (

    select
        unit_key,
        unit_code,
        province_unit_key
    from {{ ref('int_units') }}

),

bands as (

    select * from {{ ref('index_766_bands') }}

),

totals as (

    select
        c.unit_key,
        c.unit_level,
        c.period,
        any_value(u.unit_code) as unit_code,
        any_value(u.province_unit_key) as province_unit_key,
        any_value(c.weights_version) as weights_version,
        {{ exact_points_sum('c.points') }} as total_points,
        coalesce(sum(c.max_points) filter (where c.is_computed), 0) as computed_max_points,
        {{ exact_points_sum('c.scale_points') }} as scale_points_sum,
        count(*) filter (where c.scale_points_source = 'missing') as n_missing,
        count(*) filter (where c.scale_points_source = 'published') as n_published,
        nullif({{ join_array(sorted_set_agg('c.component_code', "c.scale_points_source = 'missing'"), ', ') }}, '')
            as missing_components
    from components as c
    inner join units as u on c.unit_key = u.unit_key
    group by c.unit_key, c.unit_level, c.period

),

scored as (

    select
        *,
        100 * total_points / nullif(computed_max_points, 0) as index_score,
        case when n_missing = 0 then scale_points_sum end as scale_total
    from totals

),

-- on the portal's scale: ranks among the units of a level with a full total (more than one:
-- "1 of 1" is no rank), and the total just above the unit's (the next rank's)
scale_ranked as (

    select
        unit_key,
        unit_level,
        period,
        scale_total,
        cast(rank() over (partition by unit_level, period order by scale_total desc) as bigint)
            as scale_rank,
        count(*) over (partition by unit_level, period) as scale_ranked_of
    from scored
    where scale_total is not null
        and unit_level <> 'nation'

),

scale_steps as (

    select
        unit_level,
        period,
        scale_total,
        lag(scale_total) over (partition by unit_level, period order by scale_total desc)
            as next_rank_total
    from (
        select distinct
            unit_level,
            period,
            scale_total
        from scale_ranked
    ) as totals

),

placed as (

    -- every band of the unit's version, reached or not (a tolerance for floating-point sums:
    -- 8 of 10 points is 80, not 79.999…)
    select
        s.unit_key,
        s.period,
        b.band_code,
        b.name_vi,
        b.min_score,
        s.index_score >= b.min_score - 1e-9 as is_reached
    from scored as s
    inner join bands as b on s.weights_version = b.weights_version

),

banded as (

    select
        unit_key,
        period,
        max_by(band_code, min_score) filter (where is_reached) as band_code,
        max_by(name_vi, min_score) filter (where is_reached) as band_name_vi,
        min_by(band_code, min_score) filter (where not is_reached) as next_band_code,
        min_by(name_vi, min_score) filter (where not is_reached) as next_band_name_vi,
        min(min_score) filter (where not is_reached) as next_band_min_score
    from placed
    group by unit_key, period

),

ranked as (

    select
        unit_key,
        period,
        -- bigints on both engines (Spark's rank() is an int)
        cast(rank() over (partition by unit_level, period order by index_score desc) as bigint) as rank,
        count(*) over (partition by unit_level, period) as ranked_of,
        case
            when unit_level <> 'province'
                then cast(
                        rank() over (
                            partition by unit_level, period, province_unit_key order by index_score desc
                        ) as bigint
                    )
        end as rank_in_province,
        case
            when unit_level <> 'province'
                then count(*) over (partition by unit_level, period, province_unit_key)
        end as ranked_in_province_of
    from scored
    where index_score is not null
        and unit_level <> 'nation'

)

select
    s.unit_key,
    s.unit_code,
    s.unit_level,
    s.province_unit_key,
    s.period,
    s.weights_version,
    s.total_points,
    s.computed_max_points,
    s.index_score,
    b.band_code,
    b.band_name_vi,
    b.next_band_code,
    b.next_band_name_vi,
    b.next_band_min_score,
    b.next_band_min_score * s.computed_max_points / 100.0 - s.total_points as points_to_next_band,
    r.rank,
    r.ranked_of,
    r.rank_in_province,
    r.ranked_in_province_of,
    s.scale_total,
    s.n_missing as scale_missing_count,
    s.missing_components as scale_missing_components,
    s.n_published as scale_published_count,
    case when sr.scale_ranked_of > 1 then sr.scale_rank end as scale_rank,
    case when sr.scale_ranked_of > 1 then sr.scale_ranked_of end as scale_ranked_of,
    {{ exact_points_difference('st.next_rank_total', 's.scale_total') }} as points_to_next_rank
from scored as s
left join banded as b on s.unit_key = b.unit_key and s.period = b.period
left join ranked as r on s.unit_key = r.unit_key and s.period = r.period
left join scale_ranked as sr on s.unit_key = sr.unit_key and s.period = sr.period
left join scale_steps as st
    on sr.unit_level = st.unit_level
        and sr.period = st.period
        and sr.scale_total = st.scale_total
where {{ in_periods_to_refresh('s.period') }}
