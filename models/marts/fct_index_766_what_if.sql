-- What-if for the Decision 766 index: for each unit, period and computed component that lost
-- points, how many points it costs (ranked, 1 = the costliest), how many more dossiers (on time,
-- paid online, digitised, ...) would earn its full points, and the cheapest plan in dossiers
-- that lifts the index to the next band. Each extra dossier turns one dossier of the
-- denominator into one of the numerator (a late dossier resolved on time, a cash payment made
-- online): a component gives max_points / (full_points_at × denominator) points per dossier up
-- to its full points, so the plan takes the components with the most points per dossier first.
-- Where the version has no bands (the portal's scale from July 2025: no sourced thresholds)
-- the plan aims at the next rank instead: the points to the total of the unit just above.

with

-- a composite component (the payment) as the term the dossiers move (its A: dossiers paid
-- online), with that term's points and full points
components as (

    select
        c.unit_level,
        c.unit_key,
        c.period,
        c.period_grain,
        c.group_code,
        c.component_code,
        c.component_name_vi,
        c.numerator,
        c.denominator,
        c.rate,
        coalesce(t.full_points_at, c.full_points_at) as full_points_at,
        coalesce(t.max_points, c.max_points) as max_points,
        coalesce(t.term_cents / cast(100 as double), c.points) as points
    from {{ ref('int_index_766__components') }} as c
    left join {{ ref('int_index_766__composite_terms') }} as t
        on c.unit_key = t.unit_key
            and c.period = t.period
            and c.component_code = t.component_code
            and t.in_dossier_feed
    where c.is_computed

),

scores as (

    select * from {{ ref('int_index_766__scores') }}

),

losses as (

    select
        c.unit_level,
        c.unit_key,
        c.period,
        c.period_grain,
        c.group_code,
        c.component_code,
        c.component_name_vi,
        c.numerator,
        c.denominator,
        c.rate,
        c.full_points_at,
        c.max_points,
        c.points,
        c.max_points - c.points as points_lost,
        c.max_points / (c.full_points_at * c.denominator) as points_per_dossier,
        -- the numerator that earns full points, never above the denominator
        cast(ceil(least(c.full_points_at * c.denominator, c.denominator) - 1e-9) as bigint) - c.numerator
            as dossiers_to_full_points
    from components as c
    -- a component scored without dossiers (0 received: 0 points) has none to convert
    where c.points < c.max_points and c.denominator > 0

),

planned as (

    select
        l.*,
        -- rank() is a bigint on DuckDB, an int on Spark: the contract says bigint
        cast(rank() over (partition by l.unit_key, l.period order by l.points_lost desc) as bigint) as loss_rank,
        -- the plan's order, which also fixes the order of the running float sum (the same in
        -- every build)
        coalesce(sum(l.points_lost) over (
            partition by l.unit_key, l.period
            order by l.points_per_dossier desc, l.component_code asc
            rows between unbounded preceding and 1 preceding
        ), 0) as points_before,
        -- the whole partition, unordered (an ordered frame over it took half of this model's
        -- time), summed exactly, so no order of addition changes it
        {{ exact_points_sum('l.points_lost', over='partition by l.unit_key, l.period') }} as points_available
    from losses as l

),

allocated as (

    select
        p.*,
        s.unit_code,
        s.weights_version,
        s.total_points,
        s.computed_max_points,
        s.index_score,
        s.band_code,
        s.next_band_code,
        s.next_band_name_vi,
        s.next_band_min_score,
        s.points_to_next_band,
        s.points_to_next_rank,
        case
            when s.next_band_code is not null then 'next_band'
            when s.points_to_next_rank is not null then 'next_rank'
        end as plan_target,
        case
            when s.next_band_code is not null then s.points_to_next_band
            else s.points_to_next_rank
        end as points_to_target
    from planned as p
    inner join scores as s on p.unit_key = s.unit_key and p.period = s.period

)

select
    p.unit_key,
    p.unit_code,
    p.unit_level,
    p.period,
    p.period_grain,
    p.weights_version,
    p.group_code,
    p.component_code,
    p.component_name_vi,
    i.improvement_vi,
    i.improvement_en,
    p.numerator,
    p.denominator,
    p.rate,
    p.full_points_at,
    p.max_points,
    p.points,
    p.points_lost,
    p.loss_rank,
    p.points_per_dossier,
    p.dossiers_to_full_points,
    p.total_points,
    p.computed_max_points,
    p.index_score,
    p.band_code,
    p.next_band_code,
    p.next_band_name_vi,
    p.next_band_min_score,
    p.points_to_next_band,
    p.points_to_next_rank,
    p.plan_target,
    p.points_to_target,
    p.plan_points,
    cast(ceil(p.plan_points / p.points_per_dossier - 1e-9) as bigint) as plan_dossiers,
    p.points_available >= p.points_to_next_band as next_band_reachable,
    p.points_available >= p.points_to_target as target_reachable
from (
    select
        *,
        -- DuckDB's least() skips nulls: without a target there is no plan
        case
            when points_to_target is not null
                then greatest(0, least(points_lost, points_to_target - points_before))
        end as plan_points
    from allocated
) as p
inner join {{ ref('index_766_components') }} as i
    on p.weights_version = i.weights_version
        and p.component_code = i.component_code
where {{ in_periods_to_refresh('p.period') }}
