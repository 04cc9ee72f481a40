-- Additive monthly dossier counts per source system, month and unit, at every level at once:
-- nation, province, district (before 1 July 2025), commune and agency. Quarters, half-years
-- and years are sums of these months. Dossiers whose unit could not be resolved on their
-- received date are left out here and reported by the test `assert_dossier_units_resolve`.

{%- set measures = [
    'n_received', 'n_online', 'n_full_online', 'n_finished', 'n_finished_on_time', 'n_paid',
    'n_paid_online', 'n_digitized', 'n_e_result', 'n_reused_data', 'n_identity_verified',
    'n_rated', 'n_satisfied', 'n_synced_national'
] %}

with

dossiers as (

    select * from {{ ref('int_dossiers__enriched') }}
    where province_unit_key is not null

),

grouped as (

    select
        source_system,
        received_month,
        case
            when grouping(commune_unit_key) = 0 then 'commune'
            when grouping(district_unit_key) = 0 then 'district'
            when grouping(agency_unit_key) = 0 then 'agency'
            when grouping(province_unit_key) = 0 then 'province'
            else 'nation'
        end as unit_level,
        case
            when grouping(commune_unit_key) = 0 then commune_unit_key
            when grouping(district_unit_key) = 0 then district_unit_key
            when grouping(agency_unit_key) = 0 then agency_unit_key
            when grouping(province_unit_key) = 0 then province_unit_key
            else 'VN@{{ var("history_start") }}'
        end as unit_key,
        {%- for m in measures %}
        sum({{ m }})::bigint as {{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from dossiers
    group by grouping sets (
        (source_system, received_month),
        (source_system, received_month, province_unit_key),
        (source_system, received_month, district_unit_key),
        (source_system, received_month, commune_unit_key),
        (source_system, received_month, agency_unit_key)
    )

)

select *
from grouped
-- a grouping set over a key that is null for some dossiers (no district after the reform,
-- no commune for a department's dossier) yields a null group: drop it
where unit_level = 'nation' or unit_key is not null
