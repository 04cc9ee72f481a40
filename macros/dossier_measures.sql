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


{#- The measures of int_dossier_measures__monthly: n_in_time in place of n_closed_in_time. -#}
{% macro monthly_dossier_measures() -%}
    {%- set measures = [] -%}
    {%- for measure in dossier_measures() -%}
        {%- do measures.append('n_in_time' if measure == 'n_closed_in_time' else measure) -%}
    {%- endfor -%}
    {{ return(measures) }}
{%- endmacro %}


{#- The counts of int_dossier_reconciliation__monthly, in its order. -#}
{% macro reconciliation_measures() -%}
    {{ return([
        'n_provincial', 'n_portal', 'n_matched', 'n_only_provincial', 'n_only_portal',
        'n_status_mismatch', 'n_unit_mismatch', 'n_matched_via_successor', 'n_provincial_says_synced',
    ]) }}
{%- endmacro %}
