-- Additive monthly dossier counts per source system, month and unit, at every level at once:
-- nation, province, district (before 1 July 2025), commune and agency. Only what a dossier's
-- own rows decide (not "now"): int_dossier_measures__monthly adds the in-time count.
-- Dossiers whose unit could not be resolved on their received date are left out here and
-- reported by the test `assert_dossier_units_resolve`.
-- Incremental: a run replaces whole months, those where a changed dossier was received, in its
-- new current version or the one it replaced (a corrected received date empties its old
-- month), with every dossier they hold now. A month left with no dossiers is cleared.

-- depends_on: {{ ref('stg_dossier_feed__dossier_versions') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='replace_months',
        unique_key='received_month',
        dossier_keys=['source_system', 'dossier_id'],
    )
}}

with

dossiers as (

    select * from {{ ref('int_dossiers__enriched') }}
    where province_unit_key is not null
    {%- if is_incremental() %}
        and {{ month_in('received_month', monthly_months_to_replace()) }}
    {%- endif %}

),

grouped as (

    select
        source_system,
        received_month,
        {{ grouped_unit_level_and_key() }},
        sum(n_received)::bigint as n_received,
        sum(n_online)::bigint as n_online,
        sum(n_full_online)::bigint as n_full_online,
        sum(n_finished)::bigint as n_finished,
        sum(n_finished_on_time)::bigint as n_finished_on_time,
        sum(n_closed_in_time)::bigint as n_closed_in_time,
        sum(n_paid)::bigint as n_paid,
        sum(n_paid_online)::bigint as n_paid_online,
        sum(n_digitized)::bigint as n_digitized,
        sum(n_e_result)::bigint as n_e_result,
        sum(n_reused_data)::bigint as n_reused_data,
        sum(n_identity_verified)::bigint as n_identity_verified,
        sum(n_rated)::bigint as n_rated,
        sum(n_satisfied)::bigint as n_satisfied,
        sum(n_synced_national)::bigint as n_synced_national,
        max(load_id) as last_load_id
    from dossiers
    group by {{ unit_grouping_sets(['source_system', 'received_month']) }}  -- noqa: PRS

)

select *
from grouped
-- a grouping set over a key that is null for some dossiers (no district after the reform,
-- no commune for a department's dossier) yields a null group: drop it
where unit_level = 'nation' or unit_key is not null
