-- The terms of a composite 766 component (the portal's online payment: 6·A + min(2, 2.5·B) +
-- min(2, 2.5·C)) per unit and period the portal's export scores: a term the dossier feed has
-- (A: dossiers paid online over dossiers with a fee) recomputed from the province's own
-- dossiers, the others (B, C: fee-charging procedures, which only the portal knows) from the
-- export's counts; each term's points in hundredths, rounded the portal's way
-- (macros/portal_rounding.sql). int_index_766__components adds them up.

with

exported as (

    select
        unit_key,
        period,
        period_end,
        metric_code as component_code,
        fee_procedures_paying_online,
        fee_procedures_fee_synced,
        fee_procedures
    from {{ ref('int_index_766__published') }}
    where not is_group_total
        and unit_key is not null
        and {{ in_periods_to_refresh() }}

),

components as (

    select
        weights_version,
        component_code,
        valid_from,
        valid_to,
        numerator_measure,
        denominator_measure
    from {{ ref('index_766_components') }}
    where rule = 'composite'

),

terms as (

    select * from {{ ref('index_766_composite_terms') }}

),

measures as (

    select
        unit_key,
        period,
        measure,
        measure_value
    from {{ ref('int_index_766__measures') }}

),

counted as (

    select
        e.unit_key,
        e.period,
        e.component_code,
        c.weights_version,
        t.term,
        t.in_dossier_feed,
        t.max_points,
        t.full_points_at,
        -- no dossiers: 0 / 0, the term's 0 points (as the portal scores it)
        case
            when t.in_dossier_feed then coalesce(num.measure_value, 0)
            when t.numerator_count = 'fee_procedures_paying_online' then e.fee_procedures_paying_online
            when t.numerator_count = 'fee_procedures_fee_synced' then e.fee_procedures_fee_synced
        end as numerator,
        case
            when t.in_dossier_feed then coalesce(den.measure_value, 0)
            when t.denominator_count = 'fee_procedures' then e.fee_procedures
        end as denominator
    from exported as e
    inner join components as c
        on e.component_code = c.component_code
            and e.period_end between c.valid_from and coalesce(c.valid_to, {{ end_of_time() }})
    inner join terms as t
        on c.weights_version = t.weights_version
            and c.component_code = t.component_code
    left join measures as num
        on e.unit_key = num.unit_key
            and e.period = num.period
            and c.numerator_measure = num.measure
    left join measures as den
        on e.unit_key = den.unit_key
            and e.period = den.period
            and c.denominator_measure = den.measure

),

rated as (

    select
        *,
        {{ portal_percent_cents('numerator', 'denominator') | indent(8) }} as percent_cents
    from counted

)

select
    unit_key,
    period,
    component_code,
    weights_version,
    term,
    in_dossier_feed,
    max_points,
    full_points_at,
    numerator,
    denominator,
    percent_cents / cast(100 as double) as percent,
    {{ portal_term_cents(
        'percent_cents', 'numerator', 'denominator', 'max_points', 'full_points_at'
    ) | indent(4) }} as term_cents
from rated
