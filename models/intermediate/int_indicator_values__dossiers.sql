-- Dossier indicators per unit and period (month, quarter, half-year, year), computed from the
-- provincial one-stop systems (the headline source). The catalogue seed says which measure is
-- the numerator and which the denominator of each indicator, and how a longer period relates
-- to its months: flows (`sum`) add the months up; snapshots (`snapshot`, the overdue backlog)
-- take the value at the period's last month end. A new indicator over existing measures is a
-- seed row.

with

monthly as (

    select * from {{ ref('int_dossier_measures__monthly') }}
    where source_system = 'provincial'

),

backlog as (

    select
        snapshot_month as month,
        unit_level,
        unit_key,
        'n_overdue_backlog' as measure,
        n_overdue_backlog as measure_value
    from {{ ref('int_dossier_backlog__month_ends') }}
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
        denominator_measure,
        time_aggregation
    from {{ ref('indicators') }}
    where source = 'dossiers'
        and numerator_measure is not null

),

flows as (

    unpivot monthly
    on columns('^n_')
    into name measure value measure_value

),

measures as (

    select
        received_month as month,
        unit_level,
        unit_key,
        measure,
        measure_value
    from flows

    union all

    select * from backlog

),

by_period as (

    select
        m.unit_level,
        m.unit_key,
        p.period,
        p.period_grain,
        p.period_start,
        p.period_end,
        c.indicator_code,
        sum(case when m.measure = c.numerator_measure then m.measure_value end) as numerator,
        sum(case when m.measure = c.denominator_measure then m.measure_value end) as denominator
    from measures as m
    inner join catalogue as c
        on m.measure = c.numerator_measure or m.measure = c.denominator_measure
    inner join periods as p
        on (c.time_aggregation = 'sum' and m.month between p.period_start and p.period_end)
            or (c.time_aggregation = 'snapshot' and last_day(m.month) = p.period_end)
    group by all

)

select
    unit_level,
    unit_key,
    period,
    period_grain,
    period_start,
    period_end,
    indicator_code,
    '' as dimension,
    numerator::double as numerator,
    denominator::double as denominator
from by_period
