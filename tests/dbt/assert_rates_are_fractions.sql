-- Rates are stored as fractions: every rate value lies between 0 and 1.
select f.*
from {{ ref('fct_indicator_values') }} as f
inner join {{ ref('dim_indicator') }} as i on f.indicator_code = i.indicator_code
where i.unit = 'rate' and f.value not between 0 and 1
