with

units as (

    select * from {{ ref('int_units') }}

),

crosswalk as (

    -- every new commune an old commune went into, with the link type
    select
        old_ward_code,
        {{ join_array(sorted_list_agg("new_ward_code || ':' || link_type"), ', ') }} as crosswalk_links
    from {{ ref('admin_commune_crosswalk_2025') }}
    group by old_ward_code

)

select
    u.unit_key,
    u.unit_code,
    u.unit_name,
    u.unit_name_en,
    u.unit_level,
    u.parent_unit_code,
    u.parent_unit_key,
    u.province_unit_key,
    u.valid_from,
    u.valid_to,
    u.successor_unit_code,
    u.successor_link,
    case
        when u.unit_level = 'commune' and u.valid_to = cast('{{ var("reform_date") }}' as date) - 1
            then x.crosswalk_links
    end as crosswalk_links
from units as u
left join crosswalk as x on u.unit_code = x.old_ward_code
