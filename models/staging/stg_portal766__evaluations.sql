-- The portal's 766 evaluation export as loaded (every capture): typed, names in NFC, the
-- page's group, and whether the row is a unit's points on the page (a metric page's group
-- total) or a component. Which capture is current is decided downstream.

with

source as (

    select * from {{ source('portal766', 'portal766') }}

),

renamed as (

    select
        -- ids
        {{ nfc("unit_code") }} as unit_code,
        department_id as portal_department_id,
        department_code as portal_department_code,
        {{ nfc("department_name") }} as portal_department_name,
        department_type as portal_department_type,
        department_level as portal_department_level,
        is_parent,

        -- what and when
        page,
        case page
            when 'transparency' then 'CKMB'
            when 'dvc-progress-tree' then 'TDGQ'
            when 'provide-online-tree' then 'CLGQ'
            when 'formality-online-payment-tree' then 'TTTT'
            when 'handling-satisfaction' then 'MDHL'
            when 'dossier-digitized' then 'MDSH'
        end as group_code,
        period,
        captured_on,
        metric_code,
        {{ nfc("metric_name") }} as metric_name,

        -- the unit's points on the page
        unit_total_score,
        unit_total_max_score,
        unit_ratio,

        -- the metric as published (null: no data, not 0)
        numerator,
        denominator,
        ratio,
        score,
        max_score,
        data_quality_status,
        data_quality_message,

        -- the tree pages' counts
        total_received,
        total_on_time,
        total_overdue,
        total_completed,
        avg_processing_days,
        dossiers_paid_online,
        dossiers_with_obligation,
        fee_procedures_paying_online,
        fee_procedures_fee_synced,
        fee_procedures,
        fee_procedures_distinct,
        channel_online,
        channel_direct,
        channel_postal,
        channel_total,

        -- lineage
        _load_id as load_id,
        _row_number as source_row_number

    from source

)

select
    *,
    metric_code = group_code as is_group_total
from renamed
