with

source as (

    select * from {{ source('task_register', 'tasks') }}

),

renamed as (

    select
        -- ids
        {{ nfc("unit_code") }} as unit_code,
        year as plan_year,
        task_id,

        -- texts
        {{ nfc("title") }} as title,
        origin,
        status,

        -- dates
        deadline,
        updated_at,

        -- lineage
        _load_id as load_id,
        _row_number as source_row_number

    from source

)

select * from renamed
