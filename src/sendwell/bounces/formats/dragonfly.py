"""DragonFly Mail Agent (dma): "There was an error delivering your mail to <addr>."."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="dragonfly",
    sign=sign(r"this is the dragonfly mail agent|there was an error delivering your mail to"),
    end=rx(r"^message headers follow"),
)
detect = FORMAT.detect
