with

catalogue as (

    select * from {{ ref('indicators') }}

)

select
    indicator_code,
    name_vi,
    name_en,
    unit,
    direction,
    source,
    period_rule,
    rolls_up,
    description
from catalogue
