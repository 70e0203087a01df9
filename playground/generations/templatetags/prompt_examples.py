from django import template

from playground.generations.examples import EXAMPLES, Example

register = template.Library()


@register.simple_tag
def prompt_examples() -> tuple[Example, ...]:
    """The examples offered above the prompt (their prompts load on a click: js/examples/)."""
    return EXAMPLES
