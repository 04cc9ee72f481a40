-- The target-attainment rate (tỷ lệ chỉ tiêu đạt) of each unit and period: its headline
-- indicators that met or exceeded their target / its headline indicators with a target and a
-- value. Derived from the other indicators of the same unit and period; not rolled up.

with

assessed as (

    select * from {{ ref('int_indicator_values__assessed') }}
    where is_headline and target is not null and attainment is not null

),

catalogue as (

    select
        indicator_code,
        unit,
        direction
    from {{ ref('indicators') }}
    where source = 'derived'
        and numerator_measure = 'n_targets_met'
        and denominator_measure = 'n_targets'

),

counted as (

    select
        unit_key,
        unit_code,
        unit_valid_from,
        unit_level,
        period,
        period_grain,
        period_start,
        period_end,
        period_year,
        previous_period,
        same_period_previous_year,
        count(*) filter (where attainment in ('met', 'exceeded'))::double as numerator,
        count(*)::double as denominator
    from assessed
    group by all

),

valued as (

    select
        counted.*,
        c.indicator_code,
        c.unit as indicator_unit,
        c.direction,
        counted.numerator / counted.denominator as value,
        {{ seed_target() }} as target,
        {{ seed_target_source() }} as target_source
    from counted
    cross join catalogue as c
    {{ join_seed_targets('counted.unit_code', 'counted.unit_level', 'counted.period_year', 'c.indicator_code') }}

)

select
    unit_key,
    unit_code,
    unit_valid_from,
    unit_level,
    period,
    period_grain,
    period_start,
    period_end,
    period_year,
    previous_period,
    same_period_previous_year,
    null::date as as_of,
    indicator_code,
    indicator_unit,
    direction,
    '' as dimension,
    numerator,
    denominator,
    value,
    true as has_counts,
    target,
    target_source,
    {{ attainment('value', 'target', 'direction') }} as attainment,
    'derived' as source,
    true as is_headline
from valued
where {{ in_periods_to_refresh() }}
