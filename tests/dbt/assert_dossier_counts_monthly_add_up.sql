-- The semantic layer's atomic grain loses and invents nothing: for every month, the receiving
-- units of fct_dossier_counts_monthly add up, per province as it was and in all, to the monthly
-- counts of the provincial systems at the province and nation levels, measure by measure.
with

leaf_rows as (

    select
        received_month,
        province_unit_key,
        columns('^n_')
    from {{ ref('fct_dossier_counts_monthly') }}

),

leaves as (

    unpivot leaf_rows
    on columns('^n_')
    into name measure value measure_value

),

level_rows as (

    select
        received_month,
        unit_level,
        unit_key,
        columns('^n_')
    from {{ ref('int_dossier_counts__monthly') }}
    where source_system = 'provincial' and unit_level in ('province', 'nation')

),

levels as (

    unpivot level_rows
    on columns('^n_')
    into name measure value measure_value

),

-- n_closed_in_time (the 766 index's) is not in the semantic layer's grain
level_measures as (

    select * from levels
    where measure <> 'n_closed_in_time'

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
