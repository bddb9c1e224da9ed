from . import kdniao_recognize_wizard
