log_config = dict(interval=50, img_interval=1000)
dist_params = dict(backend='auto')  # nccl with CUDA, else gloo
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
cudnn_benchmark = True
seed = 0
