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
    time_aggregation,
    rolls_up,
    description
from catalogue
