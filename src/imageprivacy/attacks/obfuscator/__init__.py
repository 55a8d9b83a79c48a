"""What attacks DeepObfuscator features: reconstructors trained with MS-SSIM, private-attribute classifiers."""
