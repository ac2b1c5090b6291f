filename = 'oops'
