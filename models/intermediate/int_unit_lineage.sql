-- Where each unit went: every unit paired with itself and with each later unit that took it
-- over whole (a merged province, a commune that went wholly into one new commune, a merged
-- department, an agency of a merged province), following the chain (70.STTTT → 70.SKHCN on
-- 1 March 2025 → 75.SKHCN on 1 July 2025). A commune split among several new communes and an
-- abolished district have no successor: their history is re-based only where it is exact,
-- in their province.

with recursive

units as (

    select
        unit_key,
        unit_code,
        unit_level,
        valid_from,
        valid_to,
        successor_unit_code,
        successor_link
    from {{ ref('int_units') }}

),

successions as (

    -- the successor is the unit of the same level that carries the code the day after
    select
        u.unit_key,
        s.unit_key as successor_unit_key,
        u.valid_to + 1 as takeover_date
    from units as u
    inner join units as s
        on u.successor_unit_code = s.unit_code
            and u.unit_level = s.unit_level
            and u.valid_to + 1 between s.valid_from and coalesce(s.valid_to, {{ end_of_time() }})
    where u.successor_link in ('merged', 'full', 'department_merged', 'province_merged')

),

lineage (unit_key, later_unit_key, generations, held_from) as (

    select
        unit_key,
        unit_key as later_unit_key,
        0 as generations,
        valid_from as held_from
    from units

    union all

    select
        lineage.unit_key,
        successions.successor_unit_key,
        lineage.generations + 1,
        successions.takeover_date
    from lineage
    inner join successions on lineage.later_unit_key = successions.unit_key

)

select
    lineage.unit_key,
    lineage.later_unit_key,
    later.unit_code as later_unit_code,
    later.unit_level as later_unit_level,
    later.valid_from as later_valid_from,
    later.valid_to as later_valid_to,
    -- from when the later unit held what the unit was (a continuing department that absorbed
    -- another holds the absorbed one's business only from the merger on)
    lineage.held_from,
    later.valid_to as held_to,
    later.valid_to is null as is_current,
    lineage.generations
from lineage
inner join units as later on lineage.later_unit_key = later.unit_key
