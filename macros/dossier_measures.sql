{#- The 0/1 flags int_dossiers__enriched carries per dossier, in the order the models list them. -#}
{% macro dossier_measures() -%}
    {{ return([
        'n_received', 'n_online', 'n_full_online', 'n_finished', 'n_finished_on_time',
        'n_closed_in_time', 'n_paid', 'n_paid_online', 'n_digitized', 'n_e_result',
        'n_reused_data', 'n_identity_verified', 'n_rated', 'n_satisfied', 'n_synced_national',
    ]) }}
{%- endmacro %}


{#- `sum(m)::bigint as m` for each dossier measure but those in `exclude`, comma-separated. -#}
{% macro sum_dossier_measures(exclude=[]) -%}
    {%- for measure in dossier_measures() if measure not in exclude %}
        sum({{ measure }})::bigint as {{ measure }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
