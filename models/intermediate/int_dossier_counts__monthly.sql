-- Additive monthly dossier counts per source system, month and unit, at every level at once:
-- nation, province, district (before 1 July 2025), commune and agency. Only what a dossier's
-- own rows decide (not "now"): int_dossier_measures__monthly adds the in-time count. The
-- closed dossiers in time at the end of each period grain (Decision 766 on the portal's scale)
-- are counted here, per month received: a quarter's figure is the sum of its months'.
-- Dossiers whose unit could not be resolved on their received date are left out here and
-- reported by the test `assert_dossier_units_resolve`.
-- Incremental: a run replaces whole months, those where a changed dossier was received, in its
-- new current version or the one it replaced (a corrected received date empties its old
-- month), with every dossier they hold now. A month left with no dossiers is cleared.

-- depends_on: {{ ref('stg_dossier_feed__dossier_versions') }}

{{
    config(
        materialized='incremental',
        incremental_strategy=engine_strategy('replace_months'),
        partition_by=engine_partition_by('received_month'),
        unique_key='received_month',
        meta={
            'dossier_keys': ['source_system', 'dossier_id'],
        },
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
        {{ sum_dossier_measures() }},
        {{ sum_in_time_at_period_ends('closed') }},
        max(load_id) as last_load_id
    from dossiers
    group by {{ unit_grouping_sets(['source_system', 'received_month']) }}  -- noqa: PRS

)

select *
from grouped
-- a grouping set over a key that is null for some dossiers (no district after the reform,
-- no commune for a department's dossier) yields a null group: drop it
where unit_level = 'nation' or unit_key is not null
