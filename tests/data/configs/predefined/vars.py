work_dir = './work_dirs/{{ fileBasenameNoExtension }}'
here = '{{fileDirname}}'
name = '{{ fileBasename }}'
ext = '{{ fileExtname }}'
