-- Số hồ sơ theo tháng và đơn vị tiếp nhận: the dossiers of the provincial one-stop systems (the
-- headline source) counted once each, per month received and receiving unit path (province,
-- district, commune, agency, as they were that day), with today's province beside. The atomic,
-- additive grain the semantic layer (MetricFlow) sums: any grouping of these rows gives the
-- numerators and denominators of fct_indicator_values for the same units and months, with no
-- level counted twice. Incremental like int_dossier_counts__monthly: a run replaces the months
-- a changed dossier was received in (its new version or the one it replaced).

-- depends_on: {{ ref('stg_dossier_feed__dossier_versions') }}

{{
    config(
        materialized=engine_mart_materialization(),
        incremental_strategy=engine_strategy('replace_months'),
        unique_key='received_month',
        on_schema_change='fail',
        meta={
            'dossier_keys': ['source_system', 'dossier_id'],
        },
    )
}}

with

dossiers as (

    select * from {{ ref('int_dossiers__enriched') }}
    where source_system = 'provincial'
        and province_unit_key is not null
    {%- if is_incremental() %}
        and {{ month_in('received_month', monthly_months_to_replace()) }}
    {%- endif %}

),

units as (

    select
        unit_key,
        unit_code,
        unit_name,
        unit_level
    from {{ ref('int_units') }}

),

todays_provinces as (

    select
        l.unit_key,
        l.later_unit_code as current_province_code,
        u.unit_name as current_province_name
    from {{ ref('int_unit_lineage') }} as l
    inner join units as u on l.later_unit_key = u.unit_key
    where l.is_current
        and u.unit_level = 'province'

),

grouped as (

    select
        received_month,
        province_unit_key,
        district_unit_key,
        commune_unit_key,
        agency_unit_key,
        {{ sum_dossier_measures(exclude=['n_closed_in_time']) }},
        max(load_id) as last_load_id
    from dossiers
    group by all

)

select
    g.received_month,
    {{ month_text('g.received_month') }} as period,
    -- the unit that received the dossiers: the department, else the commune, else the province
    coalesce(g.agency_unit_key, g.commune_unit_key, g.province_unit_key) as unit_key,
    coalesce(a.unit_code, c.unit_code, p.unit_code) as unit_code,
    coalesce(a.unit_name, c.unit_name, p.unit_name) as unit_name,
    coalesce(a.unit_level, c.unit_level, p.unit_level) as unit_level,
    g.province_unit_key,
    p.unit_code as province_code,
    p.unit_name as province_name,
    t.current_province_code,
    t.current_province_name,
    d.unit_code as district_code,
    d.unit_name as district_name,
    c.unit_code as commune_code,
    a.unit_code as agency_code,
    g.n_received,
    g.n_online,
    g.n_full_online,
    g.n_finished,
    g.n_finished_on_time,
    g.n_paid,
    g.n_paid_online,
    g.n_digitized,
    g.n_e_result,
    g.n_reused_data,
    g.n_identity_verified,
    g.n_rated,
    g.n_satisfied,
    g.n_synced_national,
    g.n_fee_charged,
    g.n_dissatisfied,
    g.n_digitized_e_result,
    g.last_load_id
from grouped as g
inner join units as p on g.province_unit_key = p.unit_key
left join units as d on g.district_unit_key = d.unit_key
left join units as c on g.commune_unit_key = c.unit_key
left join units as a on g.agency_unit_key = a.unit_key
left join todays_provinces as t on g.province_unit_key = t.unit_key
