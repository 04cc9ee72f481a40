-- Roll-ups add up: for every computed indicator and period, the nation's numerator and
-- denominator equal the sums over the provinces as they were (63 before 1 July 2025, 34
-- after; the year 2025 holds both the old provinces' first half and the new ones' second).
with

facts as (

    select * from {{ ref('fct_indicator_values') }}
    where source = 'computed'

),

provinces as (

    select
        period,
        indicator_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from facts
    where unit_level = 'province'
    group by all

),

nation as (

    select
        period,
        indicator_code,
        numerator,
        denominator
    from facts
    where unit_level = 'nation'

)

select
    nation.*,
    provinces.numerator as provinces_numerator,
    provinces.denominator as provinces_denominator
from nation
full outer join provinces
    on nation.period = provinces.period and nation.indicator_code = provinces.indicator_code
where
    nation.numerator is distinct from provinces.numerator
    or nation.denominator is distinct from provinces.denominator
