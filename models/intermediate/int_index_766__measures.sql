-- The counts the Decision 766 components are scored on, per unit and period (month, quarter,
-- half-year, year; units as they were): the provincial one-stop dossier measures and the
-- reconciliation counts (a dossier is synchronised when the national portal really holds it),
-- summed over the period's months. Only the measures that some weights version names. The
-- counts the portal judges at a period's end (n_in_time_at_period_end,
-- n_receiving_satisfied_at_period_end) are each period's own grain's (macros/dossier_measures.sql).

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
        'dossier_months', ['received_month', 'unit_level', 'unit_key'], period_end_measures(),
        'measure', 'measure_value'
    ) | indent(4) }}

    union all

    {{ unpivot_columns(
        'reconciliation_months', ['received_month', 'unit_level', 'unit_key'], reconciliation_measures(),
        'measure', 'measure_value'
    ) | indent(4) }}

),

-- the counts judged at a period's end, under the names the components use: of each grain's,
-- a period takes its own grain's (a quarter's dossiers judged at the quarter's end)
judged_at_period_end as (

    select * from {{ period_end_measure_names() }}

),

renamed as (

    select
        m.unit_level,
        m.unit_key,
        p.period,
        p.period_grain,
        p.period_start,
        p.period_end,
        coalesce(j.period_measure, m.measure) as measure,
        m.measure_value
    from monthly as m
    inner join periods as p on m.received_month between p.period_start and p.period_end
    left join judged_at_period_end as j on m.measure = j.measure
    where j.measure is null or j.period_grain = p.period_grain

)

select
    r.unit_level,
    r.unit_key,
    r.period,
    r.period_grain,
    r.period_start,
    r.period_end,
    r.measure,
    sum(r.measure_value)::bigint as measure_value
from renamed as r
inner join named on r.measure = named.measure
where {{ in_periods_to_refresh('r.period') }}
group by all
