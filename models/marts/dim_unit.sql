with

units as (

    select * from {{ ref('int_units') }}

)

select
    unit_key,
    unit_code,
    unit_name,
    unit_name_en,
    unit_level,
    parent_unit_code,
    parent_unit_key,
    province_unit_key,
    valid_from,
    valid_to,
    successor_unit_code,
    successor_link
from units
