with

source as (

    select * from {{ source('ingest', 'load_files') }}

),

renamed as (

    select
        load_id,
        feed,
        file_name,
        content_hash,
        file_format,
        status as load_status,
        rows_read,
        rows_accepted,
        rows_superseded,
        rows_quarantined,
        message,
        loaded_at

    from source

)

select * from renamed
