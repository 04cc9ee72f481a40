-- Bộ chỉ số 766: the warehouse's recomputation of the Decision 766 index from the dossier feed,
-- one row per unit (as it was), period and component, with the component's group points, the
-- unit's total, the index over the points that could be computed (0–100), its band and rank, and
-- beside them the score, group points and rank the unit published (indicator
-- `index_766_score`; group points as dimensions named by group code).

with

components as (

    select * from {{ ref('int_index_766__components') }}

),

units as (

    select
        unit_key,
        unit_code,
        unit_name,
        province_unit_key
    from {{ ref('int_units') }}

),

bands as (

    select * from {{ ref('index_766_bands') }}

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
        sum(points) as group_points,
        sum(max_points) filter (where is_computed) as group_computed_max_points
    from components
    group by all

),

totals as (

    select
        c.unit_key,
        c.unit_level,
        c.period,
        any_value(c.weights_version) as weights_version,
        sum(c.points) as total_points,
        coalesce(sum(c.max_points) filter (where c.is_computed), 0) as computed_max_points,
        100 * sum(c.points) / nullif(sum(c.max_points) filter (where c.is_computed), 0) as index_score,
        any_value(u.province_unit_key) as province_unit_key
    from components as c
    inner join units as u on c.unit_key = u.unit_key
    group by c.unit_key, c.unit_level, c.period

),

banded as (

    select
        t.*,
        b.band_code,
        b.name_vi as band_name_vi
    from totals as t
    left join bands as b
        on t.weights_version = b.weights_version
            -- a tolerance for floating-point sums: 8 of 10 points is 80, not 79.999…
            and t.index_score >= b.min_score - 1e-9
    qualify row_number() over (partition by t.unit_key, t.period order by b.min_score desc) = 1

),

ranked as (

    select
        unit_key,
        period,
        rank() over (partition by unit_level, period order by index_score desc) as rank,
        count(*) over (partition by unit_level, period) as ranked_of,
        case
            when unit_level <> 'province'
                then rank() over (partition by unit_level, period, province_unit_key order by index_score desc)
        end as rank_in_province,
        case
            when unit_level <> 'province'
                then count(*) over (partition by unit_level, period, province_unit_key)
        end as ranked_in_province_of
    from totals
    where index_score is not null
        and unit_level <> 'nation'

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
    g.group_points,
    g.group_computed_max_points,
    pg.value as published_group_points,
    b.total_points,
    b.computed_max_points,
    b.computed_max_points / 100.0 as computed_share_of_maximum,
    b.index_score,
    b.band_code,
    b.band_name_vi,
    r.rank,
    r.ranked_of,
    r.rank_in_province,
    r.ranked_in_province_of,
    pt.value as published_score,
    pt.published_rank,
    pt.published_ranked_of,
    b.index_score - pt.value as score_difference,
    r.rank - pt.published_rank as rank_difference,
    coalesce(pt.source_file, pg.source_file) as published_source_file
from components as c
inner join units as u on c.unit_key = u.unit_key
left join units as province on u.province_unit_key = province.unit_key
inner join groups as g
    on c.unit_key = g.unit_key
        and c.period = g.period
        and c.group_code = g.group_code
inner join banded as b on c.unit_key = b.unit_key and c.period = b.period
left join ranked as r on c.unit_key = r.unit_key and c.period = r.period
left join published as pt
    on c.unit_key = pt.unit_key
        and c.period = pt.period
        and pt.dimension = ''
left join published as pg
    on c.unit_key = pg.unit_key
        and c.period = pg.period
        and c.group_code = pg.dimension
