-- The points of every component of the Decision 766 index recomputed from the dossier feed,
-- for every unit and period that has dossiers, a published score or the portal's export, under
-- the weights version in force on the period's last day. Points = max_points × min(1, rate /
-- full_points_at), rounded the portal's way where the version says so; a zero denominator gives
-- what the version says (0, full points, or none). A component the feed cannot compute
-- (`not_in_feed`) or without dossiers (`no_dossiers`) has none. A composite (the payment) adds
-- its terms' points (int_index_766__composite_terms). Beside the published: __components.

{%- set unit_period = ['unit_level', 'unit_key', 'period', 'period_grain', 'period_start', 'period_end'] %}

with

-- read three times: inlined, so that the reader's filter on the period reaches each read
measures as {{ cte_materialized(false) }} (

    select * from {{ ref('int_index_766__measures') }}

),

published as (

    select
        {{ column_list(unit_period) | indent(8) }}
    from {{ ref('int_indicator_values__submissions') }}
    where indicator_code = 'index_766_score'

),

-- the units and periods of the portal's export
exported as (

    select distinct
        {{ column_list(unit_period) | indent(8) }}
    from {{ ref('int_index_766__published') }}
    where not is_group_total and unit_key is not null

),

components as (

    select * from {{ ref('index_766_components') }}

),

unit_periods as (

    select distinct
        {{ column_list(unit_period) | indent(8) }}
    from measures

    union

    select * from published

    union

    select * from exported

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
        coalesce(c.rule, 'linear') as rule,
        coalesce(c.zero_denominator, 'none') as zero_denominator,
        coalesce(c.rounding, 'none') as rounding,
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
            when coalesce(denominator, 0) = 0 and zero_denominator = 'none' then 'no_dossiers'
        end as missing_reason,
        case when denominator > 0 then coalesce(numerator, 0) / denominator end as rate,
        case
            when rounding = 'portal' and denominator > 0
                then {{ portal_percent_cents('coalesce(numerator, 0)', 'denominator') | indent(16) }}
        end as percent_cents
    from counted

),

-- a composite component's points (the payment's A, B, C, each rounded): the sum of its terms
-- (in hundredths: exact); a term without its counts leaves the component without points
composite as (

    select
        unit_key,
        period,
        component_code,
        case when count(*) = count(term_cents) then sum(term_cents) end as composite_cents,
        bool_and(in_dossier_feed) as is_all_in_feed
    from {{ ref('int_index_766__composite_terms') }}
    group by unit_key, period, component_code

),

-- the portal's points in hundredths, from the rounded percentage
rounded as (

    select
        *,
        case
            when percent_cents is not null and rule <> 'composite'
                then {{ portal_points_cents(
                    'percent_cents', 'max_points', 'cast(round(full_points_at * 100) as bigint)'
                ) | indent(16) }}
        end as portal_cents
    from rated

),

scored as (

    select
        {{ star_except('r', ['missing_reason']) }},
        case
            when r.rule = 'composite' and k.composite_cents is null then 'not_in_feed'
            when r.rule = 'composite' then null
            else r.missing_reason
        end as missing_reason,
        k.is_all_in_feed,
        case
            when r.rule = 'composite' then k.composite_cents / cast(100 as double)
            when r.missing_reason is not null then null
            when coalesce(r.denominator, 0) = 0 and r.zero_denominator = 'zero' then 0.0
            when coalesce(r.denominator, 0) = 0 then r.max_points
            when r.rounding = 'portal' then r.portal_cents / cast(100 as double)
            -- max_points × min(1, rate / full_points_at), from the counts (one rounding, not three)
            else least(r.max_points, r.max_points * coalesce(r.numerator, 0) / (r.full_points_at * r.denominator))
        end as points
    from rounded as r
    left join composite as k
        on r.unit_key = k.unit_key
            and r.period = k.period
            and r.component_code = k.component_code

)

select
    {{ column_list(unit_period) | indent(4) }},
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
    points,
    missing_reason is null as is_computed,
    missing_reason,
    is_all_in_feed
from scored
