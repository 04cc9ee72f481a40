with

source as (

    select * from {{ source('dossier_feed', 'dossiers') }}

),

renamed as (

    select
        -- ids
        source_system,
        dossier_id,
        {{ nfc("upper(agency_code)") }} as agency_code,
        {{ nfc("unit_code") }} as unit_code,
        procedure_code,
        applicant_key,

        -- categories
        channel,
        online_level,
        status,
        payment_channel,
        satisfaction,

        -- numbers
        fee_amount,

        -- booleans
        coalesce(is_digitized, false) as is_digitized,
        coalesce(has_e_result, false) as has_e_result,
        coalesce(reused_data, false) as reused_data,
        coalesce(identity_verified, false) as identity_verified,

        -- timestamps (local time, Asia/Ho_Chi_Minh)
        received_at,
        due_at,
        finished_at,
        synced_national_at,
        updated_at,

        -- lineage
        _load_id as load_id,
        _row_number as source_row_number,
        -- null for the dossier's current version (set at ingest)
        _superseded_by_load_id as superseded_by_load_id

    from source

)

select * from renamed
