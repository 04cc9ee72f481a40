-- Additive monthly reconciliation counts per month and unit, at every level at once (nation,
-- province, district before 1 July 2025, commune, agency), like int_dossier_measures__monthly.
-- Pairs whose unit could not be resolved are left out (test `assert_dossier_units_resolve`).
-- Incremental like int_dossier_counts__monthly: a run replaces the months of the changed pairs,
-- old and new (`monthly_months_to_replace`).

-- depends_on: {{ ref('stg_dossier_feed__dossier_versions') }}

{{
    config(
        materialized='incremental',
        incremental_strategy=engine_strategy('replace_months'),
        partition_by=engine_partition_by('received_month'),
        unique_key='received_month',
        meta={
            'dossier_keys': ['dossier_id'],
            'months_of_pairs': true,
        },
    )
}}

with

pairs as (

    select * from {{ ref('int_dossier_reconciliation__pairs') }}
    where province_unit_key is not null
    {%- if is_incremental() %}
        and {{ month_in('received_month', monthly_months_to_replace()) }}
    {%- endif %}

),

grouped as (

    select
        received_month,
        {{ grouped_unit_level_and_key() }},
        count(*) filter (where in_provincial)::bigint as n_provincial,
        count(*) filter (where in_portal)::bigint as n_portal,
        count(*) filter (where is_matched)::bigint as n_matched,
        count(*) filter (where in_provincial and not in_portal)::bigint as n_only_provincial,
        count(*) filter (where in_portal and not in_provincial)::bigint as n_only_portal,
        count(*) filter (where is_status_mismatch)::bigint as n_status_mismatch,
        count(*) filter (where is_unit_mismatch)::bigint as n_unit_mismatch,
        count(*) filter (where is_matched_via_successor)::bigint as n_matched_via_successor,
        count(*) filter (where provincial_says_synced)::bigint as n_provincial_says_synced,
        max(last_load_id) as last_load_id
    from pairs
    group by {{ unit_grouping_sets(['received_month']) }}  -- noqa: PRS

)

select *
from grouped
where unit_level = 'nation' or unit_key is not null
