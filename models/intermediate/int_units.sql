-- Every administrative unit and agency with its validity period (valid_to inclusive; null while
-- it exists). A code can name different units before and after 1 July 2025: the key of a unit
-- is (unit_code, valid_from), also written unit_key. The territorial units come from
-- int_units__territorial; here the agencies, the parents valid on each unit's first day, and
-- the keys.

with

params as (

    select cast('{{ var("reform_date") }}' as date) as reform_date

),

territorial as (

    select * from {{ ref('int_units__territorial') }}

),

agencies as (

    -- every department in every province while both existed
    select
        p.unit_code || '.' || d.dept_code as unit_code,
        d.name_vi || ' — ' || p.unit_name as unit_name,
        d.name_en || ' — ' || p.unit_name_en as unit_name_en,
        'agency' as unit_level,
        p.unit_code as parent_unit_code,
        greatest(p.valid_from, d.valid_from) as valid_from,
        nullif(
            least(coalesce(p.valid_to, {{ end_of_time() }}), coalesce(d.valid_to, {{ end_of_time() }})),
            {{ end_of_time() }}
        ) as valid_to,
        case
            when d.valid_to is not null and d.valid_to <= coalesce(p.valid_to, {{ end_of_time() }})
                then p.unit_code || '.' || d.successor_dept_code
            when p.valid_to is not null then p.successor_unit_code || '.' || d.dept_code
        end as successor_unit_code,
        case
            when d.valid_to is not null and d.valid_to <= coalesce(p.valid_to, {{ end_of_time() }})
                then 'department_merged'
            when p.valid_to is not null then 'province_merged'
        end as successor_link
    from territorial as p
    inner join {{ ref('agency_departments') }} as d
        on p.unit_level = 'province'
            and d.valid_from <= coalesce(p.valid_to, {{ end_of_time() }})
            and coalesce(d.valid_to, {{ end_of_time() }}) >= p.valid_from

),

units as (

    select * from territorial
    union all
    select * from agencies

),

with_parent as (

    -- the parent valid on the unit's first day
    select
        u.*,
        parent.valid_from as parent_valid_from
    from units as u
    left join units as parent
        on u.parent_unit_code = parent.unit_code
            and parent.unit_level = case u.unit_level
                when 'province' then 'nation'
                when 'district' then 'province'
                when 'agency' then 'province'
                when
                    'commune'
                    then case when u.valid_from < (select reform_date from params) then 'district' else 'province' end
            end
            and u.valid_from between parent.valid_from and coalesce(parent.valid_to, {{ end_of_time() }})

),

keyed as (

    select
        unit_code || '@' || cast(valid_from as string) as unit_key,
        unit_code,
        unit_name,
        unit_name_en,
        unit_level,
        parent_unit_code,
        parent_unit_code || '@' || cast(parent_valid_from as string) as parent_unit_key,
        valid_from,
        valid_to,
        successor_unit_code,
        successor_link
    from with_parent

)

select
    k.*,
    case k.unit_level
        when 'province' then k.unit_key
        when 'nation' then null
        when
            'commune'
            then case when parent.unit_level = 'district' then parent.parent_unit_key else k.parent_unit_key end
        else k.parent_unit_key
    end as province_unit_key,
    case
        when k.unit_level = 'district' then k.unit_key
        when k.unit_level = 'commune' and parent.unit_level = 'district' then k.parent_unit_key
    end as district_unit_key
from keyed as k
left join keyed as parent on k.parent_unit_key = parent.unit_key
