-- noqa: disable=AL03
-- (the branches of the unions below take their column names from the first branch)
-- The territorial units from the reference lists: the nation, the provinces, districts and
-- communes as of 1 March 2025 (valid from history_start to the day before the reform) and
-- as of 1 July 2025, each with its validity period (valid_to inclusive; null while it exists),
-- its parent's code and its successor (the province that absorbed it, the commune it went
-- into whole). Agencies, parents' keys and unit keys: int_units.

with

params as (

    select
        cast('{{ var("history_start") }}' as date) as history_start,
        cast('{{ var("reform_date") }}' as date) as reform_date

),

merger as (

    select * from {{ ref('admin_province_merger_2025') }}

),

unchanged_provinces as (

    -- neither absorbed another province nor was absorbed
    select m.old_province_code as province_code
    from merger as m
    where m.old_province_code = m.new_province_code
        and not exists (
            select 1 from merger as o
            where o.new_province_code = m.new_province_code
                and o.old_province_code <> o.new_province_code
        )

),

nation as (

    select
        'VN' as unit_code,
        'Việt Nam' as unit_name,
        'Viet Nam' as unit_name_en,
        'nation' as unit_level,
        cast(null as string) as parent_unit_code,
        params.history_start as valid_from,
        cast(null as date) as valid_to,
        cast(null as string) as successor_unit_code,
        cast(null as string) as successor_link
    from params

),

provinces_before as (

    select
        p.code as unit_code,
        p.name as unit_name,
        p.name_en as unit_name_en,
        'province' as unit_level,
        'VN' as parent_unit_code,
        params.history_start as valid_from,
        case when u.province_code is null then params.reform_date - 1 end as valid_to,
        case when u.province_code is null then m.new_province_code end as successor_unit_code,
        case when u.province_code is null then 'merged' end as successor_link
    from {{ ref('admin_provinces_2025_03') }} as p
    cross join params
    inner join merger as m on p.code = m.old_province_code
    left join unchanged_provinces as u on p.code = u.province_code

),

provinces_after as (

    select
        p.code,
        p.name,
        p.name_en,
        'province',
        'VN',
        params.reform_date,
        cast(null as date),
        cast(null as string),
        cast(null as string)
    from {{ ref('admin_provinces_2025_07') }} as p
    cross join params
    where p.code not in (select u.province_code from unchanged_provinces as u)

),

districts as (

    select
        d.code,
        d.name,
        d.name_en,
        'district',
        d.province_code,
        params.history_start,
        params.reform_date - 1,
        cast(null as string),
        'abolished'
    from {{ ref('admin_districts_2025_03') }} as d
    cross join params

),

crosswalk as (

    select
        old_ward_code,
        count(*) as n_links,
        max(new_ward_code) as new_ward_code,
        bool_and(link_type = 'full') as all_full
    from {{ ref('admin_commune_crosswalk_2025') }}
    group by old_ward_code

),

communes_before as (

    select
        c.code,
        c.name,
        c.name_en,
        'commune',
        c.district_code,
        params.history_start,
        params.reform_date - 1,
        case when x.n_links = 1 and x.all_full then x.new_ward_code end,
        case when x.n_links = 1 and x.all_full then 'full' when x.n_links > 1 then 'split' end
    from {{ ref('admin_communes_2025_03') }} as c
    cross join params
    left join crosswalk as x on c.code = x.old_ward_code

),

communes_after as (

    select
        c.code,
        c.name,
        c.name_en,
        'commune',
        c.province_code,
        params.reform_date,
        cast(null as date),
        cast(null as string),
        cast(null as string)
    from {{ ref('admin_communes_2025_07') }} as c
    cross join params

),

territorial as (

    select * from nation
    union all
    select * from provinces_before
    union all
    select * from provinces_after
    union all
    select * from districts
    union all
    select * from communes_before
    union all
    select * from communes_after

)

select * from territorial
