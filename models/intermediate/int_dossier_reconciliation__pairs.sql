-- Every dossier known to the provincial one-stop system or to the national portal, paired on
-- its id: in both (matched), only in the provincial system (not synchronised), or only on the
-- portal. A pair counts under the units the provincial system gave it (the portal's units for a
-- dossier only on the portal), as they were on the day it was received. Agency codes retired by
-- the March 2025 merger were already followed to their successor in int_dossiers__enriched, so
-- a portal that still files a merged department's dossiers under the old code matches.
-- Incremental on the dossier id: a run re-pairs the ids with a version loaded since the last
-- run in either system (or received in the months a partitioned run asks for), reading
-- enriched only in the months their rows can be in, and deletes their old pairs within the
-- months those can be in (strategy `replace_dossiers`). On Spark a run recomputes the pairs of
-- whole months, those same months (a pair's month is its provincial month, else its portal
-- month), and overwrites their partitions.

-- depends_on: {{ ref('stg_dossier_feed__dossier_versions') }}

{{
    config(
        materialized='incremental',
        incremental_strategy=engine_strategy('replace_dossiers'),
        partition_by=engine_partition_by('received_month'),
        unique_key='dossier_id',
        meta={
            'dossier_keys': ['dossier_id'],
            'watermark_column': 'last_load_id',
            'month_columns': ['received_month', 'portal_received_month'],
        },
    )
}}

{%- set whole_months = recomputes_whole_months() %}

with

-- read twice (once per system). A full build does not materialise it, so each read takes only
-- its system's rows and the columns it needs (materialised, every column of every dossier was
-- copied first: 9.6 s against 7.6 s at 10 M dossiers); an incremental run does, so the changed
-- ids are looked up once, not twice, and only in the months their rows can be in
-- (`pair_months_to_read`; a new month at 50 M dossiers: 7.3 s for the model instead of 11.9 s)
dossiers as {{ cte_materialized(is_incremental()) }} (

    select * from {{ ref('int_dossiers__enriched') }}
    {%- if whole_months %}
        -- both sides of every id with a side in the months replaced
        semi join (
            select dossier_id from {{ ref('int_dossiers__enriched') }}
            where {{ month_in('received_month', partitions_to_replace()) }}
        ) as in_months using (dossier_id)
    {%- elif is_incremental() %}
        semi join ({{ changed_dossiers(['dossier_id']) }}) as changed using (dossier_id)
    where {{ month_in('received_month', pair_months_to_read()) }}
    {%- endif %}

),

provincial as (

    select * from dossiers
    where source_system = 'provincial'

),

portal as (

    select * from dossiers
    where source_system = 'national_portal'

),

paired as (

    select
        coalesce(p.dossier_id, n.dossier_id) as dossier_id,
        p.dossier_id is not null as in_provincial,
        n.dossier_id is not null as in_portal,
        p.dossier_id is not null and n.dossier_id is not null as is_matched,
        coalesce(p.received_month, n.received_month) as received_month,
        n.received_month as portal_received_month,
        case when p.dossier_id is not null then p.province_unit_key else n.province_unit_key end
            as province_unit_key,
        case when p.dossier_id is not null then p.district_unit_key else n.district_unit_key end
            as district_unit_key,
        case when p.dossier_id is not null then p.commune_unit_key else n.commune_unit_key end
            as commune_unit_key,
        case when p.dossier_id is not null then p.agency_unit_key else n.agency_unit_key end
            as agency_unit_key,
        p.status as provincial_status,
        n.status as portal_status,
        p.n_synced_national = 1 as provincial_says_synced,
        greatest(p.load_id, n.load_id) as last_load_id,
        coalesce(p.agency_via_successor or n.agency_via_successor, false) as matched_via_successor,
        coalesce(p.province_unit_key, '') <> coalesce(n.province_unit_key, '')
        or coalesce(p.commune_unit_key, '') <> coalesce(n.commune_unit_key, '')
        or coalesce(p.agency_unit_key, '') <> coalesce(n.agency_unit_key, '') as units_differ
    from provincial as p
    full outer join portal as n on p.dossier_id = n.dossier_id

)

select
    dossier_id,
    received_month,
    portal_received_month,
    province_unit_key,
    district_unit_key,
    commune_unit_key,
    agency_unit_key,
    provincial_status,
    portal_status,
    in_provincial,
    in_portal,
    is_matched,
    coalesce(provincial_says_synced, false) as provincial_says_synced,
    is_matched and matched_via_successor as is_matched_via_successor,
    is_matched and provincial_status <> portal_status as is_status_mismatch,
    is_matched and units_differ as is_unit_mismatch,
    last_load_id
from paired
{%- if whole_months %}
-- the pairs of those months only (an id's other side may lie in a month not replaced)
where {{ month_in('received_month', partitions_to_replace()) }}
{%- endif %}
