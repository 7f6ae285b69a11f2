"""Each role template declares what it uses; a role that does not give it fails at rendering."""

import re

import pytest

from spikeforge.codegen.render import (
    TEMPLATE_DIR,
    Role,
    check_contract,
    render_role,
    template_contract,
)
from spikeforge.codegen.translate import TranslatedRole

MODULE_TEMPLATES = {"network.pyx.j2", "macros.pyx.j2"}
ROLE_TEMPLATES = sorted(
    path.name for path in TEMPLATE_DIR.glob("*.pyx.j2") if path.name not in MODULE_TEMPLATES
)


@pytest.mark.parametrize("name", ROLE_TEMPLATES)
def test_every_role_template_declares_what_it_reads(name):
    """The declared extra names are exactly the role.<name> the template reads (other than the
    Role's own fields)."""
    contract = template_contract(name)
    assert contract is not None, f"{name} has no contract line"
    source = (TEMPLATE_DIR / name).read_text()
    own_fields = {"code", "name", "description", "index_lines", "every", "clock_dt", "template"}
    own_fields |= {"draws_random_numbers", "random_id", "parallel_minimum"}  # Role properties
    read = set(re.findall(r"role\.([a-z_]+)", source)) - own_fields
    assert read == set(contract.extra)


def _role(template, extra, lines=()):
    code = TranslatedRole([], [], [], list(lines), [], [])
    return Role("r0", template, "test", code, extra=extra)


def test_a_role_that_breaks_its_contract_is_an_internal_error():
    good = {"size": "_n", "spikes": "_s", "refractory": False}
    check_contract(_role("threshold.pyx.j2", good))
    with pytest.raises(RuntimeError, match=r"lacks \['refractory'\]"):
        check_contract(_role("threshold.pyx.j2", {"size": "_n", "spikes": "_s"}))
    with pytest.raises(RuntimeError, match=r"gives \['extra_name'\]"):
        check_contract(_role("threshold.pyx.j2", {**good, "extra_name": 1}))
    summed = {"size": 1, "target": 1, "target_index": 1, "target_size": 1, "target_type": 1}
    check_contract(_role("summed_variable.pyx.j2", summed, ["_summed_value = x"]))
    with pytest.raises(RuntimeError, match="does not assign \\['_summed_value'\\]"):
        check_contract(_role("summed_variable.pyx.j2", summed, ["_other = x"]))


SPECIAL = {
    "kind": "all_pairs",
    "range_code": TranslatedRole([], [], [], [], [], []),
    "records": ["_rec0"],
    "refractory": True,
    "record": True,
    "skip_if_invalid": False,
    "source_condition": False,
    "target_type": "double",
    "value_code": TranslatedRole([], [], [], [], [], []),
    "value_condition": False,
    "sample_size": False,
}


@pytest.mark.parametrize("name", ROLE_TEMPLATES)
def test_every_role_template_renders(name):
    """Each template renders with what its contract declares (placeholders for the values),
    into a function of the role's name that reads every declared value."""
    contract = template_contract(name)
    extra = {key: SPECIAL.get(key, f"_arg_{key}") for key in contract.extra}
    lines = [f"{local} = 1" for local in contract.code]
    role = _role(name, extra, lines)
    serial, threaded = render_role(role), render_role(role, parallel=True)
    assert serial.startswith("cdef void r0(") and threaded.startswith("cdef void r0(")
    text = serial + threaded  # a value may be read only by the module for threads
    conditional = {"probability"}  # read only for kind='sampled'
    for key, value in extra.items():
        if isinstance(value, str) and value.startswith("_arg_") and key not in conditional:
            assert value in text, key
