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
        loaded_at,
        -- a file's modification time is when it was sent; never later than when it was loaded
        least(coalesce(file_modified_at, loaded_at), loaded_at) as sent_at

    from source

)

select * from renamed
