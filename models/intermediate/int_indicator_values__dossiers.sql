-- Dossier indicators per unit and period (month, quarter, half-year, year), computed from the
-- provincial one-stop systems (the headline source). Numerators and denominators are sums of
-- monthly counts; the catalogue seed says which measure is the numerator and which the
-- denominator of each indicator, so a new indicator over existing measures is a seed row.

with

monthly as (

    select * from {{ ref('int_dossier_measures__monthly') }}
    where source_system = 'provincial'

),

periods as (

    select
        period,
        period_grain,
        period_start,
        period_end
    from {{ ref('int_periods') }}

),

catalogue as (

    select
        indicator_code,
        numerator_measure,
        denominator_measure
    from {{ ref('indicators') }}
    where source = 'dossiers'
        and numerator_measure is not null
        and denominator_measure is not null

),

long as (

    unpivot monthly
    on columns('^n_')
    into name measure value measure_value

),

by_period as (

    select
        l.unit_level,
        l.unit_key,
        p.period,
        p.period_grain,
        p.period_start,
        p.period_end,
        l.measure,
        sum(l.measure_value) as measure_value
    from long as l
    inner join periods as p
        on l.received_month between p.period_start and p.period_end
    group by all

)

select
    b.unit_level,
    b.unit_key,
    b.period,
    b.period_grain,
    b.period_start,
    b.period_end,
    c.indicator_code,
    '' as dimension,
    sum(case when b.measure = c.numerator_measure then b.measure_value end)::double as numerator,
    sum(case when b.measure = c.denominator_measure then b.measure_value end)::double as denominator
from by_period as b
inner join catalogue as c
    on b.measure in (c.numerator_measure, c.denominator_measure)
group by all
