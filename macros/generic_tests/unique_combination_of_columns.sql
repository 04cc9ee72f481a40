{% test unique_combination_of_columns(model, combination_of_columns) %}
    {#- No row of `model` shares its values of `combination_of_columns` with another. -#}
    select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
