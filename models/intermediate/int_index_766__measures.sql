-- The counts the Decision 766 components are scored on, per unit and period (month, quarter,
-- half-year, year; units as they were): the provincial one-stop dossier measures and the
-- reconciliation counts (a dossier is synchronised when the national portal really holds it),
-- summed over the period's months. Only the measures that some weights version names.

with

dossier_months as (

    select {{ star_except(none, ['source_system']) }}
    from {{ ref('int_dossier_measures__monthly') }}
    where source_system = 'provincial'

),

reconciliation_months as (

    select * from {{ ref('int_dossier_reconciliation__monthly') }}

),

periods as (

    select
        period,
        period_grain,
        period_start,
        period_end
    from {{ ref('int_periods') }}

),

named as (

    select numerator_measure as measure from {{ ref('index_766_components') }}
    union
    select denominator_measure as measure from {{ ref('index_766_components') }}

),

-- one row per month, unit and measure of either count table
monthly as (

    {{ unpivot_columns(
        'dossier_months', ['received_month', 'unit_level', 'unit_key'], monthly_dossier_measures(),
        'measure', 'measure_value'
    ) | indent(4) }}

    union all

    {{ unpivot_columns(
        'reconciliation_months', ['received_month', 'unit_level', 'unit_key'], reconciliation_measures(),
        'measure', 'measure_value'
    ) | indent(4) }}

)

select
    m.unit_level,
    m.unit_key,
    p.period,
    p.period_grain,
    p.period_start,
    p.period_end,
    m.measure,
    sum(m.measure_value)::bigint as measure_value
from monthly as m
inner join named on m.measure = named.measure
inner join periods as p on m.received_month between p.period_start and p.period_end
where {{ in_periods_to_refresh('p.period') }}
group by all
