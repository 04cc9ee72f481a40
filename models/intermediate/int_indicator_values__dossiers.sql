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

    {{ unpivot_columns(
        'monthly', ['received_month', 'unit_level', 'unit_key'], monthly_dossier_measures(),
        'measure', 'measure_value'
    ) | indent(4) }}

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

-- each indicator's measures, one row per role (said as equalities, so the joins below are hash
-- joins, not a nested loop over every measure row)
catalogue_measures as (

    select
        indicator_code,
        time_aggregation,
        numerator_measure as measure,
        true as is_numerator
    from catalogue

    union all

    select
        indicator_code,
        time_aggregation,
        denominator_measure as measure,
        false as is_numerator
    from catalogue
    where denominator_measure is not null

),

-- the periods each month adds to (flows) or closes (snapshots)
month_periods as (

    select
        months.month,
        'sum' as time_aggregation,
        p.*
    from (select distinct month from measures) as months
    inner join periods as p on months.month between p.period_start and p.period_end

    union all

    select
        months.month,
        'snapshot' as time_aggregation,
        p.*
    from (select distinct month from measures) as months
    inner join periods as p on last_day(months.month) = p.period_end

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
        sum(case when c.is_numerator then m.measure_value end) as numerator,
        sum(case when not c.is_numerator then m.measure_value end) as denominator
    from measures as m
    inner join catalogue_measures as c on m.measure = c.measure
    inner join month_periods as p
        on m.month = p.month
            and c.time_aggregation = p.time_aggregation
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
where {{ in_periods_to_refresh() }}
