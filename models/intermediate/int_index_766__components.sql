-- Every component of the Decision 766 index for every unit and period that has dossiers or a
-- published score: its rate and points under the weights version in force on the period's last
-- day. Points = max_points × min(1, rate / full_points_at). A component the dossier feed cannot
-- compute (`not_in_feed`) or whose denominator is zero in the period (`no_dossiers`) has no rate
-- and no points; the index is then reported over the points that could be computed.

with

measures as (

    select * from {{ ref('int_index_766__measures') }}

),

published as (

    select
        unit_level,
        unit_key,
        period,
        period_grain,
        period_start,
        period_end
    from {{ ref('int_indicator_values__submissions') }}
    where indicator_code = 'index_766_score'

),

components as (

    select * from {{ ref('index_766_components') }}

),

unit_periods as (

    select distinct
        unit_level,
        unit_key,
        period,
        period_grain,
        period_start,
        period_end
    from measures

    union

    select * from published

),

versioned as (

    select
        up.*,
        c.weights_version,
        c.group_code,
        c.group_name_vi,
        c.group_name_en,
        c.group_max_points,
        c.component_code,
        c.component_name_vi,
        c.component_name_en,
        c.max_points,
        c.full_points_at,
        c.numerator_measure,
        c.denominator_measure
    from unit_periods as up
    inner join components as c
        on up.period_end between c.valid_from and coalesce(c.valid_to, {{ end_of_time() }})

),

counted as (

    select
        v.*,
        num.measure_value as numerator,
        den.measure_value as denominator
    from versioned as v
    left join measures as num
        on v.unit_key = num.unit_key
            and v.period = num.period
            and v.numerator_measure = num.measure
    left join measures as den
        on v.unit_key = den.unit_key
            and v.period = den.period
            and v.denominator_measure = den.measure

),

rated as (

    select
        *,
        case
            when numerator_measure is null then 'not_in_feed'
            when coalesce(denominator, 0) = 0 then 'no_dossiers'
        end as missing_reason,
        case when denominator > 0 then coalesce(numerator, 0) / denominator end as rate
    from counted

)

select
    unit_level,
    unit_key,
    period,
    period_grain,
    period_start,
    period_end,
    weights_version,
    group_code,
    group_name_vi,
    group_name_en,
    group_max_points,
    component_code,
    component_name_vi,
    component_name_en,
    numerator_measure,
    denominator_measure,
    case when missing_reason is null then coalesce(numerator, 0) end as numerator,
    case when missing_reason is null then denominator end as denominator,
    rate,
    full_points_at,
    max_points,
    -- max_points × min(1, rate / full_points_at), from the counts (one rounding, not three)
    case
        when missing_reason is null
            then least(max_points, max_points * coalesce(numerator, 0) / (full_points_at * denominator))
    end as points,
    missing_reason is null as is_computed,
    missing_reason
from rated
where {{ in_periods_to_refresh() }}
