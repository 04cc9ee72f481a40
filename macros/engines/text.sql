{#- Text functions the engines spell differently. -#}

{#- Unicode NFC normalisation of typed codes. Spark SQL has no such function: on Spark the
    Parquet export of the raw layer (orchestration/de06/lake.py, NFC_COLUMNS) has already
    normalised the same columns, so the expression passes through. -#}
{% macro nfc(expression) -%}
    {{ return(adapter.dispatch('nfc', 'de06')(expression)) }}
{%- endmacro %}

{% macro default__nfc(expression) -%}
    nfc_normalize({{ expression }})
{%- endmacro %}

{% macro spark__nfc(expression) -%}
    {{ expression }}
{%- endmacro %}

{#- 'YYYY-MM' of a date or timestamp: the same text on every engine. -#}
{% macro month_text(expression) -%}
    substr(cast(cast({{ expression }} as date) as string), 1, 7)
{%- endmacro %}
