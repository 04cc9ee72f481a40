-- The Decision 766 index per unit (as it was) and period: points earned, the points that could
-- be computed, the index over them (0–100), its band and the next band with the points it
-- needs, and the rank among the units of the same level with a score in the period (and within
-- the province for agencies, districts and communes). fct_index_766 and fct_index_766_what_if
-- both read it.

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
        coalesce(sum(c.max_points) filter (where c.is_computed), 0) as computed_max_points
    from components as c
    inner join units as u on c.unit_key = u.unit_key
    group by c.unit_key, c.unit_level, c.period

),

scored as (

    select
        *,
        100 * total_points / nullif(computed_max_points, 0) as index_score
    from totals

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
                then cast(rank() over (partition by unit_level, period, province_unit_key order by index_score desc) as bigint)
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
    r.ranked_in_province_of
from scored as s
left join banded as b on s.unit_key = b.unit_key and s.period = b.period
left join ranked as r on s.unit_key = r.unit_key and s.period = r.period
where {{ in_periods_to_refresh('s.period') }}
