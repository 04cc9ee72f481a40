with

source as (

    select * from {{ source('ingest', 'quarantine') }}

),

renamed as (

    select
        load_id,
        feed,
        file_name,
        row_number as source_row_number,
        column_name,
        value as rejected_value,
        reason_code,
        reason_en,
        reason_vi,
        {{ nfc("unit_code") }} as unit_code,
        upper(period) as period,
        lower(indicator_code) as indicator_code,
        coalesce({{ nfc("dimension") }}, '') as dimension

    from source

)

select * from renamed
