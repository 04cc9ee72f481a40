-- Indicator values reported in submissions: the latest submission per unit, period, indicator
-- and dimension, attached to the unit that carried the code in that period. Rates are turned
-- into fractions: from the counts when both are given, else from the reported percentage
-- (such a value stays on its unit: has_counts = false). A reported count is its own numerator
-- and rolls up; a score (points) never does.

with

submissions as (

    select * from {{ ref('stg_submission_feed__indicator_values') }}

),

latest as (

    select *
    from submissions
    qualify row_number() over (
            partition by unit_code, period, indicator_code, dimension
            order by load_id desc, source_row_number desc
        ) = 1

),

files as (

    select
        load_id,
        file_name
    from {{ ref('stg_ingest__load_files') }}

),

periods as (

    select
        period,
        period_grain,
        period_start,
        period_end
    from {{ ref('int_periods') }}

),

catalogue as (

    select
        indicator_code,
        unit
    from {{ ref('indicators') }}

),

units as (

    select
        unit_key,
        unit_code,
        unit_level,
        valid_from,
        valid_to
    from {{ ref('int_units') }}

),

placed as (

    -- the unit valid at the end of the period, else the last one valid during it
    select
        s.*,
        p.period_grain,
        p.period_start,
        p.period_end,
        u.unit_key,
        u.unit_level
    from latest as s
    inner join periods as p on s.period = p.period
    inner join units as u
        on s.unit_code = u.unit_code
            and p.period_end >= u.valid_from
            and coalesce(u.valid_to, {{ end_of_time() }}) >= p.period_start
    qualify row_number() over (
            partition by s.unit_code, s.period, s.indicator_code, s.dimension
            order by u.valid_from desc
        ) = 1

)

select
    placed.unit_level,
    placed.unit_key,
    placed.period,
    placed.period_grain,
    placed.period_start,
    placed.period_end,
    placed.as_of,
    placed.indicator_code,
    placed.dimension,
    -- a count is its own numerator (it adds up across units); points never add up
    case when c.unit = 'count' then coalesce(placed.numerator, placed.reported_value) else placed.numerator end
        as numerator,
    case when c.unit = 'rate' then placed.denominator end as denominator,
    case c.unit
        when 'rate' then placed.numerator is not null and placed.denominator is not null
        when 'count' then coalesce(placed.numerator, placed.reported_value) is not null
        else false
    end as has_counts,
    case
        when c.unit = 'rate' and placed.numerator is not null and placed.denominator is not null
            then placed.numerator / nullif(placed.denominator, 0)
        when c.unit = 'rate' then placed.reported_value / 100
        when c.unit = 'count' then coalesce(placed.numerator, placed.reported_value)
        else placed.reported_value
    end as value,
    case when c.unit = 'rate' then placed.reported_value / 100 else placed.reported_value end
        as reported_value,
    case when c.unit = 'rate' then placed.reported_target / 100 else placed.reported_target end
        as submitted_target,
    placed.published_rank,
    placed.published_ranked_of,
    placed.load_id as source_load_id,
    files.file_name as source_file,
    placed.source_row_number
from placed
inner join catalogue as c on placed.indicator_code = c.indicator_code
left join files on placed.load_id = files.load_id
