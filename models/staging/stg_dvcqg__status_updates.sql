-- The process log (quá trình xử lý) of the dossiers a provincial system sent through the
-- national portal's synchronisation API: one row per status update as sent, typed, with the
-- status mapped to the dossier feed's (status_code keeps the portal's 1-10). The dossiers
-- themselves are versions of the dossier feed (stg_dossier_feed__dossier_versions).

with

source as (

    select * from {{ source('dvcqg', 'dvcqg') }}

),

renamed as (

    select
        -- ids
        province_code,
        dossier_id,

        -- the update
        status,
        status_code,
        department,

        -- times (local, Asia/Ho_Chi_Minh)
        processed_at,
        started_at,
        due_by_rule_at,

        -- lineage
        _load_id as load_id,
        _row_number as source_row_number

    from source

)

select * from renamed
