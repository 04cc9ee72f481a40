-- The semantic layer's atomic grain loses and invents nothing: for every month, the receiving
-- units of fct_dossier_counts_monthly add up, per province as it was and in all, to the monthly
-- counts of the provincial systems at the province and nation levels, measure by measure.
-- n_closed_in_time (the 766 index's) is not in the semantic layer's grain
{%- set measures = dossier_measures() | reject('equalto', 'n_closed_in_time') | list %}

with

leaves as (

    {{ unpivot_columns(
        ref('fct_dossier_counts_monthly'), ['received_month', 'province_unit_key'], measures,
        'measure', 'measure_value'
    ) | indent(4) }}

),

level_rows as (

    select *
    from {{ ref('int_dossier_counts__monthly') }}
    where source_system = 'provincial' and unit_level in ('province', 'nation')

),

level_measures as (

    {{ unpivot_columns(
        'level_rows', ['received_month', 'unit_level', 'unit_key'], measures,
        'measure', 'measure_value'
    ) | indent(4) }}

),

summed as (

    select
        received_month,
        grouping(province_unit_key) = 1 as is_nation,
        province_unit_key,
        measure,
        sum(measure_value) as measure_value
    from leaves
    group by grouping sets ((received_month, measure), (received_month, province_unit_key, measure))  -- noqa: PRS

),

expected as (

    select
        received_month,
        unit_level = 'nation' as is_nation,
        case when unit_level = 'province' then unit_key end as province_unit_key,
        measure,
        measure_value
    from level_measures

)

select
    coalesce(s.received_month, e.received_month) as received_month,
    coalesce(s.province_unit_key, e.province_unit_key) as province_unit_key,
    coalesce(s.measure, e.measure) as measure,
    s.measure_value as summed_from_receiving_units,
    e.measure_value as in_monthly_counts
from summed as s
full outer join expected as e
    on s.received_month = e.received_month
        and s.is_nation = e.is_nation
        and s.province_unit_key is not distinct from e.province_unit_key
        and s.measure = e.measure
where s.measure_value is distinct from e.measure_value
