{% test expression_is_true(model, expression, where=none, column_name=none) %}
    {#- Every row of `model` (optionally filtered by `where`) satisfies `expression`. -#}
    select *
    from {{ model }}
    where not ({{ expression }})
    {%- if where %} and ({{ where }}){% endif %}
{% endtest %}
