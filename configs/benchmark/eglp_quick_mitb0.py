# The benchmark suite's quick EGLP case (tools/benchmark_suite.py --quick):
# the toy EGLP step (MiT-B0 HRDA student and NFNet, 256x256 crops) with the
# class similarity of configs/pig/eglp_city2dz.py (LPIPS on [-1, 1] inputs,
# EMA 0.99), LPIPS/AlexNet randomly initialised (timing only: no weight
# files are read).
_base_ = ['../toy/toy_eglp_hrda_daformer_mitb0.py']
toy_pretrained = None
model = dict(pretrained=None)
uda = dict(
    dms=dict(
        similarity=dict(
            _delete_=True,
            metric='lpips',
            lpips=dict(
                type='LPIPS', pretrained=False,
                input_range='minus_one_one'),
            ema=0.99)))
name = 'eglp_quick_mitb0'
