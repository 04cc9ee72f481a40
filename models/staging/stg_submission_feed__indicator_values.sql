with

source as (

    select * from {{ source('submission_feed', 'submissions') }}

),

renamed as (

    select
        -- ids
        {{ nfc("unit_code") }} as unit_code,
        upper(period) as period,
        lower(indicator_code) as indicator_code,
        coalesce({{ nfc("dimension") }}, '') as dimension,

        -- numbers as reported (value and target in percent for rates)
        numerator,
        denominator,
        value as reported_value,
        target as reported_target,
        rank as published_rank,
        ranked_of as published_ranked_of,

        -- dates
        as_of,

        -- lineage
        _load_id as load_id,
        _row_number as source_row_number

    from source

)

select * from renamed
